// The worker's workflow bundle entry point.
export { sellerConnection } from './seller-connection';
