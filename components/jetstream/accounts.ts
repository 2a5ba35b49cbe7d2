/**
 * The NATS account the applications (and AKIRA_CDR) live in. The library asks the system account
 * about this account's streams (`/jsz` per server), and the node configs declare it.
 */
export const CLIENT_ACCOUNT = "AKIRA";
