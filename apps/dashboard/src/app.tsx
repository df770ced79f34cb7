import { useEffect, useRef } from 'react';
import type { Scope } from './api/types';
import { AuditPage } from './pages/audit-page';
import { InvoicesPage } from './pages/invoices-page';
import { KeysPage } from './pages/keys-page';
import { ModelsPage } from './pages/models-page';
import { OverviewPage } from './pages/overview-page';
import { QueuesPage } from './pages/queues-page';
import { TenantPage } from './pages/tenant-page';
import { TenantsPage } from './pages/tenants-page';
import { UsagePage } from './pages/usage-page';
import { href, type Route, useRoute } from './router';
import { useSession } from './session';

const NAV: {
  page: Route['page'];
  label: string;
  href: string;
  needs: Scope[];
}[] = [
  {
    page: 'overview',
    label: 'Overview',
    href: href.overview,
    needs: ['admin:read', 'billing'],
  },
  {
    page: 'tenants',
    label: 'Tenants',
    href: href.tenants,
    needs: ['admin:read'],
  },
  { page: 'keys', label: 'Keys', href: href.keys, needs: ['admin:read'] },
  {
    page: 'usage',
    label: 'Usage',
    href: href.usage,
    needs: ['admin:read', 'billing'],
  },
  { page: 'models', label: 'Models', href: href.models, needs: ['admin:read'] },
  {
    page: 'queues',
    label: 'Queues and workers',
    href: href.queues,
    needs: ['admin:read'],
  },
  {
    page: 'invoices',
    label: 'Invoices',
    href: href.invoices,
    needs: ['billing'],
  },
  {
    page: 'audit',
    label: 'Audit log',
    href: href.audit,
    needs: ['admin:read'],
  },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'tenants':
      return <TenantsPage />;
    case 'tenant':
      return <TenantPage id={route.id} />;
    case 'keys':
      return <KeysPage />;
    case 'usage':
      return <UsagePage />;
    case 'models':
      return <ModelsPage />;
    case 'queues':
      return <QueuesPage />;
    case 'invoices':
      return <InvoicesPage />;
    case 'audit':
      return <AuditPage />;
    case 'not-found':
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            There is no page at <code>{route.path}</code>.{' '}
            <a href={href.overview}>Go to the overview</a>.
          </p>
        </section>
      );
  }
}

export function App() {
  const route = useRoute();
  const { session, can, signOut } = useSession();
  const main = useRef<HTMLElement>(null);
  const active = route.page === 'tenant' ? 'tenants' : route.page;

  // Moving between pages puts keyboard and screen-reader focus on the new page's content.
  useEffect(() => {
    main.current?.focus();
  }, [route]);

  return (
    <div className="layout">
      <a
        className="skip-link"
        href="#content"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Marquee admin</span>
        <span className="who" aria-label="Signed in as">
          {session.bootstrap
            ? 'bootstrap token'
            : `token ${session.actor.slice(0, 8)}`}{' '}
          · scopes: {session.scopes.join(', ') || 'none'}
        </span>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav className="sidebar" aria-label="Pages">
        <ul>
          {NAV.map((item) => (
            <li key={item.page}>
              <a
                href={item.href}
                aria-current={active === item.page ? 'page' : undefined}
              >
                {item.label}
                {!can(...item.needs) && (
                  <span className="nav-note">
                    {' '}
                    (needs {item.needs.join(' or ')})
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="content" ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
    </div>
  );
}
