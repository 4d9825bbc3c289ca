import { describe, expect, it } from "vitest";
import { describeError, fieldMessage, isProblem, withoutField } from "./problem";

describe("describeError", () => {
  it("says a network failure in words", () => {
    const v = describeError({ network: true });
    expect(v.message).toBe("Could not reach Atrium. Check your connection and try again.");
    expect(v.status).toBeUndefined();
  });

  it("puts 422 field errors next to their fields and drops the generic detail", () => {
    const v = describeError(
      {
        status: 422,
        body: {
          type: "about:blank",
          title: "Unprocessable Content",
          status: 422,
          detail: "The request body is invalid.",
          request_id: "r1",
          errors: [
            { field: "slug", message: "must be a DNS label" },
            { field: "tags.env", message: "at most 256 characters" },
          ],
        },
      },
      ["name", "slug", "tags"],
    );
    expect(v.message).toBe("Some of what you entered needs fixing.");
    expect(v.fields).toEqual({ slug: ["must be a DNS label"], tags: ["env: at most 256 characters"] });
    expect(v.other).toEqual([]);
    expect(fieldMessage(v, "slug")).toBe("must be a DNS label");
    expect(fieldMessage(v, "name")).toBeUndefined();
  });

  it("keeps field errors the form does not have, and the detail, in the summary", () => {
    const v = describeError(
      {
        status: 422,
        body: { title: "Unprocessable Content", status: 422, detail: "The request body is invalid.", errors: [{ field: "colour", message: "unknown field" }] },
      },
      ["name"],
    );
    expect(v.message).toBe("Some of what you entered needs fixing. The request body is invalid.");
    expect(v.other).toEqual([{ field: "colour", message: "unknown field" }]);
  });

  it("points at the fields when a conflict names them", () => {
    const v = describeError(
      { status: 409, body: { title: "Conflict", status: 409, detail: "Another tenant already uses this value; see errors.", errors: [{ field: "slug", message: "already used by another tenant" }] } },
      ["slug", "name"],
    );
    expect(v.message).toBe("This conflicts with the current state. See the marked fields.");
    expect(v.fields).toEqual({ slug: ["already used by another tenant"] });
  });

  it("adds the server's detail to the lead sentence", () => {
    const v = describeError({ status: 409, body: { title: "Conflict", status: 409, detail: 'A tenant with slug "contoso" already exists.' } });
    expect(v.message).toBe('This conflicts with the current state. A tenant with slug "contoso" already exists.');
  });

  it("explains 403 and 412 without jargon", () => {
    expect(describeError({ status: 403, body: { title: "Forbidden", detail: "This operation requires the super_admin role" } }).message).toBe(
      "You don't have permission to do this. This operation requires the super_admin role.",
    );
    expect(describeError({ status: 412, body: { title: "Precondition Failed", detail: "ETag mismatch" } }).message).toBe(
      "Someone else changed this since you loaded it. Reload to see the latest version, then try again.",
    );
  });

  it("uses Retry-After for 429", () => {
    expect(describeError({ status: 429, retryAfter: "3" }).message).toBe("Too many requests right now. Try again in 3 seconds.");
    expect(describeError({ status: 429, retryAfter: "1" }).message).toBe("Too many requests right now. Try again in 1 second.");
    expect(describeError({ status: 429, retryAfter: "soon" }).message).toBe("Too many requests right now. Wait a moment and try again.");
  });

  it("gives the request id for server faults", () => {
    const v = describeError({ status: 500, body: { title: "Internal Server Error", status: 500, detail: "An internal error occurred.", request_id: "abc123" } });
    expect(v.message).toBe("Something went wrong on our side. An internal error occurred. If it keeps happening, quote request id abc123.");
    expect(v.requestId).toBe("abc123");
    const h = describeError({ status: 502, body: "<html>bad gateway</html>", requestId: "hdr-id" });
    expect(h.message).toBe("Something went wrong on our side. If it keeps happening, quote request id hdr-id.");
  });

  it("copes with non-problem bodies and unknown statuses", () => {
    expect(describeError({ status: 418, body: { title: "I'm a teapot", status: 418 } }).message).toBe("The request failed (HTTP 418). I'm a teapot.");
    expect(describeError({ status: 400, body: null }).message).toBe("The request was not accepted.");
    expect(describeError({ status: 400, body: [1, 2] }).message).toBe("The request was not accepted.");
  });

  it("explains changed odds in words, with the current odds", () => {
    const v = describeError(
      {
        status: 409,
        body: {
          type: "https://atrium.example.com/problems/odds-changed",
          title: "Conflict",
          status: 409,
          detail: 'The odds have changed: the current odds are "2.05". Place the bet again with those odds to accept them.',
          errors: [{ field: "odds", message: 'the current odds are "2.05"' }],
        },
      },
      ["selection", "stake_minor", "currency"],
    );
    expect(v.code).toBe("odds-changed");
    expect(v.currentOdds).toBe("2.05");
    expect(v.message).toBe(
      "The odds changed while you were deciding: they are now 2.05. Nothing was staked. Check the new odds and place the bet again to accept them.",
    );
    expect(v.other).toEqual([]);
    expect(v.fields).toEqual({});
  });

  it("explains refusals of money in words", () => {
    const insufficient = describeError({
      status: 422,
      body: {
        type: "https://atrium.example.com/problems/insufficient-funds",
        title: "Unprocessable Content",
        status: 422,
        detail: "The wallet's balance in this currency does not cover the amount; nothing was moved.",
      },
    });
    expect(insufficient.code).toBe("insufficient-funds");
    expect(insufficient.message).toBe("Your balance in this currency does not cover this amount. Nothing was moved.");
    const closed = describeError({ status: 409, body: { type: "https://atrium.example.com/problems/betting-closed", title: "Conflict", detail: "x" } });
    expect(closed.message).toBe("This event is not taking bets any more: betting has closed or the event has started. Nothing was staked.");
    const busy = describeError({ status: 409, body: { type: "https://atrium.example.com/problems/namespace-busy", title: "Conflict", detail: "x" } });
    expect(busy.message).toBe("The namespace is still being provisioned. You can delete it once it is ready or has failed.");
  });

  it("keeps the generic wording for problem types it does not know", () => {
    const v = describeError({ status: 409, body: { type: "https://atrium.example.com/problems/conflict", title: "Conflict", detail: "Name taken." } });
    expect(v.code).toBe("conflict");
    expect(v.message).toBe("This conflicts with the current state. Name taken.");
    expect(describeError({ status: 404, body: { type: "about:blank", title: "Not Found" } }).code).toBeUndefined();
  });

  it("ignores malformed errors[] members", () => {
    const v = describeError({ status: 422, body: { title: "x", errors: [{ field: 1, message: "m" }, "junk", { field: "name", message: "required" }] } }, ["name"]);
    expect(v.fields).toEqual({ name: ["required"] });
    expect(v.other).toEqual([]);
  });
});

describe("withoutField", () => {
  it("drops an edited field's messages, and a portal check once nothing is left", () => {
    const local = { message: "Some of what you entered needs fixing.", fields: { name: ["Enter a name"], location: ["Enter a region"] }, other: [] };
    const a = withoutField(local, "name");
    expect(a?.fields).toEqual({ location: ["Enter a region"] });
    expect(withoutField(a, "location")).toBeUndefined();
    expect(withoutField(a, "sport")).toBe(a);
    const server = describeError({ status: 422, body: { title: "x", errors: [{ field: "name", message: "taken" }] } }, ["name"]);
    const b = withoutField(server, "name");
    expect(b?.fields).toEqual({});
    expect(b?.message).toBe(server.message);
  });
});

describe("isProblem", () => {
  it("recognises problem bodies only", () => {
    expect(isProblem({ title: "Not Found", status: 404 })).toBe(true);
    expect(isProblem({ detail: "x" })).toBe(true);
    expect(isProblem({ data: [] })).toBe(false);
    expect(isProblem({ title: 5 })).toBe(false);
    expect(isProblem(null)).toBe(false);
    expect(isProblem("Not Found")).toBe(false);
  });
});
