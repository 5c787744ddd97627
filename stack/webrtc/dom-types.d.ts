/**
 * playwright-core's declarations name a few DOM types (element handles and
 * their selectors). The Node-side code never uses them, and the DOM library
 * itself would change globals (timers, fetch...) for every file the test
 * config checks, so they are declared empty here. Code run in the page
 * reaches its globals through `globalThis` (stack/webrtc/browser.ts).
 */
declare global {
  interface Node {}
  interface HTMLElement {}
  interface SVGElement {}
  interface HTMLElementTagNameMap {}
}
export {};
