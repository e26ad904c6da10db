"""The GraphQL API: the schema (queries, mutations, subscriptions), its types and arguments, the websocket
transport (graphql-transport-ws) and the planned projection of streamed events."""
