/**
 * What app_jsdt gives back for a KEMI `xval` result: a string, a number (for
 * numeric values such as $sp), or null when the value is absent ($hdr of a
 * missing header). Never undefined.
 */
export type KemiValue = string | number | null;
