/** OTTO's refusals in words a seller or support person understands. Pure: used by workflow and API. */

/** OTTO's `error=` callback (docs/otto-api.md §2.3: undocumented cases stay explicit). */
export function describeOttoCallbackError(error: string, description?: string): string {
  const detail = description ? ` OTTO said: "${description}".` : '';
  if (error === 'access_denied') {
    return (
      'Access was not granted at OTTO: the login at OTTO was cancelled, or the OTTO user lacks admin rights ' +
      `or the "Dienstleister Freigaben" permission.${detail} Click “Allow access” to try again.`
    );
  }
  return `OTTO refused the authorization (${error}).${detail} Click “Allow access” to try again.`;
}
