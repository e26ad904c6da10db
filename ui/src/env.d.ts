/** Types of the build-time and run-time settings. */
interface ImportMetaEnv {
  readonly VITE_GRAPHQL_URL?: string;
  readonly VITE_GRAPHQL_WS_URL?: string;
}

interface Window {
  SWITCHBOARD_CONFIG?: { graphqlUrl?: string; graphqlWsUrl?: string };
}
