/**
 * Where state written before the components/ folders existed finds this provider: its serialized
 * `__provider` names `components/streamProvider.ts` (provider/providerShell.ts), and `refresh` or
 * `destroy` revive it from state before any `up` rewrites the path. Keep this file until every
 * stack has run `pulumi up` with the new layout.
 */
export { createStreamProvider } from "./stream/jetStreamStreamProvider";
