/**
 * What a request to autopilot looks like on EventBridge. Requests travel on the stack's request bus
 * (resources/requests.yml), whose policy admits only the listed principals and only this source;
 * outcome events keep their own source (`events.source`, default agentcore-autopilot) on the
 * outcome bus, so a consumer subscribed to outcomes never sees a request and no outcome can be
 * mistaken for one.
 */
export const REQUEST_SOURCE = 'agentcore-autopilot.requests';

export const REQUEST_DETAIL_TYPES = ['Runtime Change Requested', 'Policy Rollout Requested', 'Policy Promotion Requested', 'Drift Check Requested'] as const;
export type RequestDetailType = (typeof REQUEST_DETAIL_TYPES)[number];
