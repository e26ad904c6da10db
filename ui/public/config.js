// Run-time settings. scripts/serve_ui.py replaces this file with the values of GRAPHQL_URL / GRAPHQL_WS_URL;
// left empty, the app uses VITE_GRAPHQL_URL / VITE_GRAPHQL_WS_URL from the build, else the page's host on :8080.
window.SWITCHBOARD_CONFIG = window.SWITCHBOARD_CONFIG || {};
