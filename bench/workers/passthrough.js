// The naive baseline: a 10-line pass-through Worker, which is what most public OpenAI proxies
// on Workers are. Every header goes upstream as it came; the answer comes back as it is.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = new URL(url.pathname + url.search, env.UPSTREAM);
    return fetch(new Request(upstream, request));
  },
};
