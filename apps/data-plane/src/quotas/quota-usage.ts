/** What counts against maxProjects: every project, archived ones included. */
export const PROJECTS_USED_SQL = 'SELECT count(*)::text AS used FROM projects';

/** What counts against maxUsers: every user, invited or active. */
export const USERS_USED_SQL = 'SELECT count(*)::text AS used FROM users';
