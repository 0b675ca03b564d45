// `npm start`: placeholder until the local scenario lands; it starts the embedded AgentCore emulator.
console.log('agentcore-autopilot: the local scenario is not built yet; see README.');
