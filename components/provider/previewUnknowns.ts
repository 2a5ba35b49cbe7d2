/**
 * Preview placeholders in a dynamic provider's inputs. During `pulumi preview` an input computed
 * from a resource not yet created (a new server's address, say) reaches `check()` as this sentinel
 * string, anywhere inside the value (the SDK's `runtime.unknownValue`). Such a value cannot be
 * judged yet: it is checked again at `up`, once it is known.
 */
import * as pulumi from "@pulumi/pulumi";

export const UNKNOWN_VALUE: string = pulumi.runtime.unknownValue;

/** True when `value` is, or holds anywhere inside, a preview placeholder. */
export function holdsUnknown(value: unknown): boolean {
  if (value === UNKNOWN_VALUE) return true;
  if (Array.isArray(value)) return value.some(holdsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(holdsUnknown);
  return false;
}
