/**
 * The version of what a scan computes per file. A rescan reuses only rows that the same version
 * made (API.md `reuse`): bump it whenever a row's fields would come out differently for the same
 * bytes (a new field, a changed estimator, a fixed parser).
 */
export const SCANNER_VERSION = 4;
