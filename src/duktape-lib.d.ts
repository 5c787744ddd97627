/**
 * The ES2015+ built-ins Duktape 2.7 DOES have (verified in Kamailio 5.6.3,
 * research/app_jsdt-facts.md §3), on top of tsconfig's `lib: ["ES5"]`.
 * Anything not declared here (Map, Set, Promise, Array.prototype.includes,
 * find, padStart, Object.values...) fails to type-check, because it would
 * fail at run time in Kamailio.
 */
interface String {
  startsWith(searchString: string, position?: number): boolean;
  endsWith(searchString: string, endPosition?: number): boolean;
  includes(searchString: string, position?: number): boolean;
  repeat(count: number): string;
}

interface ObjectConstructor {
  assign<T extends {}, U>(target: T, source: U): T & U;
}

interface NumberConstructor {
  isInteger(value: unknown): boolean;
}
