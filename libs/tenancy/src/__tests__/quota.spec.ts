import { QuotaExceededError } from '../quota';

describe('QuotaExceededError', () => {
  it('names the quota, its limit and the usage, in the message and the body', () => {
    const error = new QuotaExceededError('maxProjects', 50, 50);
    expect(error.message).toBe(
      'maxProjects: this tenant has 50 of 50 projects allowed by its plan',
    );
    expect(error.body()).toEqual({
      error: 'quota_exceeded',
      quota: 'maxProjects',
      limit: 50,
      used: 50,
      message: error.message,
    });
  });

  it('says how much more a storage write wanted', () => {
    const error = new QuotaExceededError('maxStorageBytes', 1000, 600, 500);
    expect(error.message).toBe(
      'maxStorageBytes: 500 more would make 1100 of 1000 bytes of files allowed by its plan (600 used)',
    );
    expect(error.body()).toMatchObject({ limit: 1000, used: 600 });
  });
});
