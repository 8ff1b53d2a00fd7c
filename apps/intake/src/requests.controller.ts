import { Controller, Get, Param } from '@nestjs/common';
import { PIN_READ_SCOPE, RequireScopes } from '@pinflow/auth';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { RequestStatusResponse, requestIdParam } from './api-schemas';
import { RequestStatusService } from './request-status.service';

@Controller('v1/requests')
@RequireScopes(PIN_READ_SCOPE)
export class RequestsController {
  constructor(private readonly status: RequestStatusService) {}

  @Get(':requestId')
  async find(@Param('requestId', new ZodValidationPipe(requestIdParam, 'request id')) requestId: string): Promise<RequestStatusResponse> {
    const found = await this.status.find(requestId);
    if (!found) throw new ProblemException(404, 'REQUEST_NOT_FOUND', 'No such request', `No request ${requestId} was accepted here.`);
    return found;
  }
}
