import { Inject } from '@nestjs/common';

/** Injection token of the validated options, defaults filled in ({@link ResolvedPipedriveOptions}). */
export const PIPEDRIVE_OPTIONS = Symbol('PIPEDRIVE_OPTIONS');
/** Injects the resolved module options (`PIPEDRIVE_OPTIONS`). */
export const InjectPipedriveOptions = (): ParameterDecorator => Inject(PIPEDRIVE_OPTIONS);
