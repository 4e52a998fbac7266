import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentOperator } from '../auth/current-operator.decorator';
import { Roles } from '../auth/roles.decorator';
import { CreateOperatorDto } from './dto/create-operator.dto';
import { ResetPasswordDto } from './dto/reset-password.dto';
import { UpdateOperatorDto } from './dto/update-operator.dto';
import { OperatorAccounts, type OperatorWithPassword } from './operator-accounts.service';
import type { OperatorView } from './operator.view';

/** Operator accounts: admins only. */
@ApiTags('operators')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/operators')
export class OperatorsController {
  constructor(private readonly accounts: OperatorAccounts) {}

  @Get()
  list(): Promise<OperatorView[]> {
    return this.accounts.list();
  }

  /** `201`; without a password, `oneTimePassword` is generated and shown this once. */
  @Post()
  @HttpCode(201)
  create(
    @Body() body: CreateOperatorDto,
    @CurrentOperator() actor: string,
  ): Promise<OperatorWithPassword> {
    return this.accounts.create(body, actor);
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<OperatorView> {
    return this.accounts.get(id);
  }

  /** Role, name, `disabled`. The last enabled admin cannot be demoted or disabled (409). */
  @Patch(':id')
  update(
    @Param('id') id: string,
    @Body() body: UpdateOperatorDto,
    @CurrentOperator() actor: string,
  ): Promise<OperatorView> {
    return this.accounts.update(id, body, actor);
  }

  /** Sets or generates a new password (shown once); the operator's sessions end. */
  @Post(':id/password')
  @HttpCode(200)
  resetPassword(
    @Param('id') id: string,
    @Body() body: ResetPasswordDto,
    @CurrentOperator() actor: string,
  ): Promise<OperatorWithPassword> {
    return this.accounts.resetPassword(id, body.password, actor);
  }
}
