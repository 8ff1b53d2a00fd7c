export const INTAKE_LOGGER = Symbol('INTAKE_LOGGER');
