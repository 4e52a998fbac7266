import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { Trim } from '@platform/http';
import { NoControlCharacters } from '../common/display-text.rules';

export class CreateProjectDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 200,
    description: 'leading and trailing blanks are removed',
  })
  @Trim()
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(200)
  @NoControlCharacters()
  name!: string;

  @ApiPropertyOptional({ maxLength: 5000 })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  description?: string;
}

export interface ProjectView {
  id: string;
  name: string;
  description: string;
  createdBy: string | null;
  createdAt: string;
}

/**
 * The list's answer as Fastify serializes it (fast-json-stringify, compiled once): 11 µs for a
 * page of 20 instead of JSON.stringify's 27 µs, the same bytes (measured at stop 19), and an
 * allow-list besides: a column the query gains later is not sent until it is named here.
 * `createdAt` is a Date from the driver.
 */
export const PROJECT_LIST_RESPONSE_SCHEMA = {
  200: {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            description: { type: 'string' },
            createdBy: { type: ['string', 'null'] },
            createdAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  },
} as const;
