export { TenantEvents, type TenantEventsSettings } from './tenant-events';
export { TenantEventsModule } from './tenant-events.module';
export type { ResyncEvent, TenantChangedEvent, TenantEvent } from './tenant-change.event';
