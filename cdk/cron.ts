/** Schedule translation lives in core (shared with the local scheduler and the alarms). */
export { assertTimeZone, toEventBridgeCron } from '../functions/core/cron';
