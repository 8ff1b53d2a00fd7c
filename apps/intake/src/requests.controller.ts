import { Controller, Get, Param } from '@nestjs/common';
import { PIN_READ_SCOPE, Principal, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { RequestStatusResponse, requestIdParam } from './api-schemas';
import { RequestStatusService } from './request-status.service';

@Controller('v1/requests')
@RequireScopes(PIN_READ_SCOPE)
export class RequestsController {
  constructor(private readonly status: RequestStatusService) {}

  @Get(':requestId')
  async find(
    @Param('requestId', new ZodValidationPipe(requestIdParam, 'request id')) requestId: string,
    @Principal() principal: AuthenticatedPrincipal,
  ): Promise<RequestStatusResponse> {
    const found = await this.status.find(requestId, principal);
    // The same answer for another caller's request as for none: no telling which ids exist.
    if (!found) throw new ProblemException(404, 'REQUEST_NOT_FOUND', 'No such request', `No request ${requestId} was accepted here for this caller.`);
    return found;
  }
}
