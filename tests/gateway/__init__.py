"""The gateway: GraphQL over HTTP and websocket, auth, relaying answers, resumes, errors."""
