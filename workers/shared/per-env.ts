/**
 * `compute(env)` once per env object. The runtime hands every request of an isolate the same env
 * object, so settings parsed (or secrets gathered) through this cost the hot path one WeakMap
 * lookup; a new deploy or a test's new env is a new object and is computed afresh.
 * No imports: tools/ and both workers load this file as it is.
 */
export function perEnv<T>(compute: (env: object) => T): (env: object) => T {
  const cache = new WeakMap<object, T>();
  return (env) => {
    if (cache.has(env)) return cache.get(env) as T;
    const value = compute(env);
    cache.set(env, value);
    return value;
  };
}
