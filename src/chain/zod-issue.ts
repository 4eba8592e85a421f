import type { ZodError } from "zod";

/**
 * The one reading of a zod failure at a boundary: the first issue as a code,
 * the offending field (the issue's path joined with dots, or an unknown key)
 * and a message that starts with that field.
 */
export function zodIssue(
  error: ZodError,
  fallback = "body",
): {
  code: "REQUEST_UNKNOWN_FIELD" | "REQUEST_INVALID_FIELD" | "REQUEST_NOT_AN_OBJECT";
  field: string;
  message: string;
} {
  const issue = error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    return {
      code: "REQUEST_UNKNOWN_FIELD",
      field: [...issue.path.map(String), issue.keys[0] ?? fallback].join("."),
      message: `unknown field ${issue.keys.join(", ")}`,
    };
  }
  const field = issue.path.map(String).join(".");
  if (field === "" && issue.code === "invalid_type" && issue.expected === "object") {
    return {
      code: "REQUEST_NOT_AN_OBJECT",
      field: fallback,
      message: `the ${fallback} must be a JSON object: ${issue.message}`,
    };
  }
  if (field === "") return { code: "REQUEST_INVALID_FIELD", field: fallback, message: `${fallback}: ${issue.message}` };
  const message = issue.code === "invalid_type" && issue.received === "undefined" ? "is required" : issue.message;
  return { code: "REQUEST_INVALID_FIELD", field, message: `${field} ${message}` };
}
