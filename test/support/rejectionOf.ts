/** Test support: the error a promise rejects with; fails if it resolves. */
export async function rejectionOf(promise: PromiseLike<unknown>): Promise<Error & { code?: string; data?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
