// The part of client-node kube/http.ts uses, imported dynamically from there: a dynamic import of
// the package itself would keep all of it (its generated API is ~15 MB), a named re-export lets the
// bundler leave the rest out.
export { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
