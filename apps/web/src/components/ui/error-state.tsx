import { Button } from './button';

/** A failed load, said where it happened, with the server's own words and a way to try again. */
export function ErrorState({ title, error, onRetry }: { title: string; error: { message: string } | null; onRetry?: () => void }) {
  return (
    <div className="error-state" role="alert">
      <p className="error-state-title">{title}</p>
      {error && <p className="error-state-message">{error.message}</p>}
      {onRetry && (
        <Button size="small" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}
