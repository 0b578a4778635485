// What kube/http.ts sends requests with, imported dynamically from there when the first request to
// a cluster is sent: the part of client-node it uses (a dynamic import of the package itself would
// keep all of it, ~15 MB of generated API; a named re-export lets the bundler leave the rest out)
// and undici's `request`, which sends with client-node's dispatcher.
export { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
export { request } from 'undici';
