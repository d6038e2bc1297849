export * from './alert.ts';
export * from './catalog.ts';
export * from './codec.ts';
export * from './commands.ts';
export * from './decimal.ts';
export * from './ids.ts';
export * from './subjects.ts';
export { RatesProvider, ratesDateOf } from './rates.ts';
export { Direction } from './notification.ts';
export {
  ChannelFormat,
  WebhookUrl,
  WebhookSecret,
  MAX_WEBHOOK_URL_LENGTH,
  DeliveryReference,
  AttemptOutcome,
  PauseReason,
} from './channel.ts';
