import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Trim } from '@platform/http';
import {
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import {
  PLANS,
  SLUG_MAX_LENGTH,
  SLUG_MIN_LENGTH,
  slugViolation,
  type Plan,
} from '@platform/tenancy';

export { PLANS, type Plan };

/** The slug rules live in @platform/tenancy; this names the broken one in the 400. */
function IsTenantSlug(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'slug',
      validator: {
        validate: (value: unknown) => slugViolation(value) === null,
        defaultMessage: (args) => {
          const violation = slugViolation(args?.value);
          return violation ? `${violation.message} (rule: ${violation.rule})` : 'slug is invalid';
        },
      },
    },
    options,
  );
}

export class CreateTenantDto {
  @ApiProperty({
    example: 'acme',
    minLength: SLUG_MIN_LENGTH,
    maxLength: SLUG_MAX_LENGTH,
    pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$',
    description: 'DNS label: the tenant is served at <slug>.<platform domain>',
  })
  @IsTenantSlug()
  slug!: string;

  @ApiProperty({ example: 'Acme Corp', minLength: 1, maxLength: 200 })
  @Trim()
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(200)
  name!: string;

  @ApiProperty({ example: 'admin@acme.test' })
  @IsEmail({}, { message: 'adminEmail must be an e-mail address' })
  @MaxLength(254)
  adminEmail!: string;

  @ApiPropertyOptional({ enum: PLANS, default: 'free' })
  @IsOptional()
  @IsIn(PLANS, { message: `plan must be one of ${PLANS.join(', ')}` })
  plan?: Plan;

  @ApiPropertyOptional({
    example: 'app.acme.com',
    description: 'Registered now; verification and certificates come with the custom-domain flow',
  })
  @IsOptional()
  @IsString()
  @MaxLength(253)
  customDomain?: string;
}
