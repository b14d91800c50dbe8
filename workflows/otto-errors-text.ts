/** OTTO's refusals in words a seller or support person understands. Pure: used by workflow and API. */

/** OTTO's `error=` callback (otto-api.md §2.3: undocumented cases stay explicit). */
export function describeOttoCallbackError(error: string, description?: string): string {
  const detail = description ? ` OTTO said: "${description}".` : '';
  if (error === 'access_denied') {
    return (
      'Access was not granted at OTTO. The OTTO user who confirmed needs admin rights and the ' +
      `"Dienstleister Freigaben" permission, or the consent was cancelled.${detail}`
    );
  }
  return `OTTO refused the authorization (${error}).${detail}`;
}
