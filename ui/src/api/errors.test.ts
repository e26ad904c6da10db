import { describe as suite, expect, it } from "vitest";
import { ApiError, describe, UNREACHABLE_MESSAGE, userWords } from "./errors";

suite("describe", () => {
  it("says the server cannot be reached for a bare websocket error event, never [object Event]", () => {
    const text = describe(new Event("error"));
    expect(text).toBe(UNREACHABLE_MESSAGE);
    expect(text).not.toContain("[object");
  });

  it("keeps the close reason the server gave, and says it cannot be reached without one", () => {
    expect(
      describe(
        new CloseEvent("close", {
          code: 4500,
          reason: "gateway shutting down",
        }),
      ),
    ).toBe("lost the connection to the gateway: gateway shutting down");
    expect(describe(new CloseEvent("close", { code: 1006 }))).toBe(
      UNREACHABLE_MESSAGE,
    );
  });

  it("keeps messages that have words", () => {
    expect(
      describe(
        new ApiError("`maxNewTokens` must be at least 1", "BAD_REQUEST"),
      ),
    ).toBe("`maxNewTokens` must be at least 1");
    expect(describe(new TypeError("Failed to fetch"))).toBe("Failed to fetch");
    expect(describe([{ message: "no inference worker is running" }])).toBe(
      "no inference worker is running",
    );
    expect(describe("plain words")).toBe("plain words");
  });

  it("never shows an object or an empty text", () => {
    for (const thrown of [{}, null, undefined, 42, "", new Error("")]) {
      const text = describe(thrown);
      expect(text).toBe(UNREACHABLE_MESSAGE);
    }
  });
});

suite("userWords", () => {
  it("says what a missing or stopped inference worker means, without the Python module", () => {
    const missing = new ApiError(
      "no inference worker is running; start one with `python -m services.inference` (`just up` does)",
      "UNAVAILABLE",
    );
    expect(userWords(missing)).toMatch(
      /^No model is running on the server right now/,
    );
    expect(userWords(missing)).not.toMatch(/python/);
    expect(
      userWords(
        new ApiError(
          "the inference worker stopped mid-answer (is gone)",
          "UNAVAILABLE",
        ),
      ),
    ).toMatch(/^The model stopped while answering/);
    expect(
      userWords(
        new ApiError(
          "the inference worker shut down mid-answer",
          "UNAVAILABLE",
        ),
      ),
    ).toMatch(/^The model stopped while answering/);
  });

  it("leaves other errors as they are", () => {
    expect(
      userWords(new ApiError("`temperature` must be at most 5", "BAD_REQUEST")),
    ).toBe("`temperature` must be at most 5");
  });
});
