import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'platform:public-route';

/** Marks a controller or handler that needs no operator credential (health checks). */
export const PublicRoute = (): ClassDecorator & MethodDecorator => SetMetadata(PUBLIC_ROUTE, true);
