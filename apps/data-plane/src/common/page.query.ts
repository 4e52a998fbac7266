import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IntegerParam } from '@platform/http';

/** `?limit=&offset=` of every data-plane list: at most 100 rows a page. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @IntegerParam()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @IntegerParam()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset: number = 0;
}
