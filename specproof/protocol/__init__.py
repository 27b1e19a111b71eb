"""The wire protocol (adapters/PROTOCOL.md): its lines, the client over any channel, the agent that serves it."""
