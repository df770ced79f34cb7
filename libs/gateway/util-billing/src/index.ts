export * from './cost-micros';
