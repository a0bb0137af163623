import { Component, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/** A rendering error shows a message and a way back instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override render() {
    if (this.state.error) {
      return (
        <div className="banner banner-error" role="alert" data-testid="error-banner">
          <span>The lab hit an error while drawing: {this.state.error.message}</span>
          <button type="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}
