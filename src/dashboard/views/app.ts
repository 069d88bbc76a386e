/**
 * The whole page: the login gate (token in sessionStorage), the header with the connection
 * state, and the page of the route. One ClusterData per token: logging out or a 401 stops its
 * streams.
 */
import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { VNode } from 'preact';
import { Api } from '../api.js';
import { ClusterData } from '../cluster.js';
import { parseRoute, type Route } from '../route.js';
import { clearToken, loadToken, saveToken } from '../token.js';
import { useCluster } from './common.js';
import { Login } from './login.js';
import { NodePage } from './node-page.js';
import { Overview } from './overview.js';
import { ServicePage } from './service-page.js';

/** See the file comment. */
export function App(): VNode {
  const [token, setToken] = useState<string | undefined>(() => loadToken(sessionStorage));
  const [reason, setReason] = useState<string | undefined>(undefined);
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));

  useEffect(() => {
    const onHash = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const cluster = useMemo(() => (token === undefined ? undefined : new ClusterData(new Api(token), (err) => {
    clearToken(sessionStorage);
    setReason(`logged out: ${err.message}`);
    setToken(undefined);
  })), [token]);

  useEffect(() => {
    if (cluster === undefined) return undefined;
    cluster.start();
    return () => void cluster.stop();
  }, [cluster]);

  if (cluster === undefined) {
    return html`<${Login} reason=${reason} onLogin=${(t: string) => { saveToken(sessionStorage, t); setReason(undefined); setToken(t); }} />`;
  }
  const logout = (): void => {
    clearToken(sessionStorage);
    setReason(undefined);
    setToken(undefined);
  };
  return html`<div class="app">
    <${Header} cluster=${cluster} onLogout=${logout} />
    ${page(cluster, route)}
  </div>`;
}

function page(cluster: ClusterData, route: Route): VNode {
  switch (route.page) {
    case 'overview': return html`<${Overview} cluster=${cluster} />`;
    case 'node': return html`<${NodePage} key=${route.name} cluster=${cluster} name=${route.name} />`;
    case 'service': return html`<${ServicePage} key=${`${route.namespace}/${route.name}`} cluster=${cluster} namespace=${route.namespace} name=${route.name} />`;
    default: return html`<main><p class="empty">No page ${route.hash}. <a href="#/">Overview</a></p></main>`;
  }
}

function Header(props: { cluster: ClusterData; onLogout: () => void }): VNode {
  useCluster(props.cluster);
  const state = props.cluster.connection();
  return html`<header>
    <a class="brand" href="#/">Flotilla</a>
    <nav><a href="#/">Overview</a></nav>
    <span class="conn conn-${state}" data-connection=${state} title="watch streams">${state}</span>
    <button type="button" onClick=${props.onLogout}>Log out</button>
  </header>`;
}
