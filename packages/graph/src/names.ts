/** Component names and migration ids (shared by the zod schema and the fast checks). */
export const COMPONENT_NAME = /^[a-z][a-z0-9_-]*$/;
export const MIGRATION_ID = /^[a-z0-9][a-z0-9._-]*$/;
/** Key ids: also file names on the device (`keys/<id>.pem`), so no "/" and no leading ".". */
export const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
