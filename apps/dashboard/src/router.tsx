import { useEffect, useState } from 'react';

/**
 * Hash routes (`#/tenants/<id>`): the gateway serves one index.html at /dashboard/ and needs no
 * rewrite rules, and a route never carries anything secret.
 */
export type Route =
  | { page: 'overview' }
  | { page: 'tenants' }
  | { page: 'tenant'; id: string }
  | { page: 'keys' }
  | { page: 'usage' }
  | { page: 'models' }
  | { page: 'queues' }
  | { page: 'invoices' }
  | { page: 'audit' }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return { page: 'overview' };
  if (parts[0] === 'tenants' && parts.length === 2)
    return { page: 'tenant', id: decodeURIComponent(parts[1]) };
  if (parts.length === 1) {
    switch (parts[0]) {
      case 'tenants':
      case 'keys':
      case 'usage':
      case 'models':
      case 'queues':
      case 'invoices':
      case 'audit':
        return { page: parts[0] };
    }
  }
  return { page: 'not-found', path };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export const href = {
  overview: '#/',
  tenants: '#/tenants',
  tenant: (id: string) => `#/tenants/${encodeURIComponent(id)}`,
  keys: '#/keys',
  usage: '#/usage',
  models: '#/models',
  queues: '#/queues',
  invoices: '#/invoices',
  audit: '#/audit',
};
