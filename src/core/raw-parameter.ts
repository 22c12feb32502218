/** One name=value pair as the client supplied it (name spelled as the client spelled it). */
export interface RawParameter {
  name: string;
  value: string;
}

/**
 * A parameter (or column) name in lower case, folding ASCII letters only, as LinkTrust's clients expect.
 * `toLowerCase` alone folds Unicode too: the Kelvin sign in `Clic%E2%84%AAID` became a `k`, so a name no
 * client means would have passed for `ClickID`. Names of ASCII only (all real ones) take the fast path.
 */
export function asciiLowerCase(name: string): string {
  if (!NON_ASCII.test(name)) return name.toLowerCase();
  return name.replace(ASCII_UPPER, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));
}
const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_UPPER = /[A-Z]/g;
