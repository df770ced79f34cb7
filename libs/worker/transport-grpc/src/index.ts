export * from './gateway-link';
export * from './gateway-link-pool.service';
