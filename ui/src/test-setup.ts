/** Vitest set-up: DOM matchers for component tests. */
import '@testing-library/jest-dom/vitest';
