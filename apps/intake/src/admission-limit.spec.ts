import { TemporarilyUnavailableException } from '@pinflow/http';
import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import { AdmissionLimit } from './acceptance';
import type { IntakeConfig } from './config';

/** A response that ends when the test says so, as Express' does when the answer is sent or the caller hangs up. */
const pendingResponse = () => new EventEmitter() as unknown as Response & EventEmitter;

describe('the admission limit in front of intake’s write endpoints', () => {
  const limit = new AdmissionLimit({ INTAKE_MAX_PENDING_ACCEPTANCES: 2 } as IntakeConfig);
  const admit = (response: Response) => {
    let admitted = false;
    limit.use({} as Request, response, () => (admitted = true));
    return admitted;
  };

  it('refuses at once with 503 while as many requests as it may take are in progress, before anything else runs', () => {
    const first = pendingResponse();
    const second = pendingResponse();
    expect(admit(first)).toBe(true);
    expect(admit(second)).toBe(true);

    expect(() => admit(pendingResponse())).toThrow(TemporarilyUnavailableException);

    first.emit('finish');
    first.emit('close');
    second.emit('close');
  });

  it('takes requests again once earlier ones were answered or their callers hung up, counting each once', () => {
    const answered = pendingResponse();
    const hungUp = pendingResponse();
    admit(answered);
    admit(hungUp);

    answered.emit('finish');
    answered.emit('close');
    hungUp.emit('close');

    expect(admit(pendingResponse())).toBe(true);
    expect(admit(pendingResponse())).toBe(true);
    expect(() => admit(pendingResponse())).toThrow(TemporarilyUnavailableException);
  });
});
