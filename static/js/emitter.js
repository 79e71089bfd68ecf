// A tiny event emitter: the connection tells the screens what happened through it.

export class Emitter {
  constructor() {
    /** @type {Map<string, Function[]>} */
    this.handlers = new Map();
  }

  /**
   * @param {string} type
   * @param {Function} fn
   * @returns {this}
   */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(fn);
    return this;
  }

  /** @param {string} type @param {...any} args */
  emit(type, ...args) {
    for (const fn of this.handlers.get(type) || []) {
      try {
        fn(...args);
      } catch (err) {
        console.error(err); // a screen's bug must not break the connection
      }
    }
  }
}
