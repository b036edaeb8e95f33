import { HarnessError } from '../errors.js';

/** A report could not be made: a run folder or results.json missing or invalid, a bad merge. */
export class ReportError extends HarnessError {}
