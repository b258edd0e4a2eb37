// What the error-handling example calls: the application's own functions and logger.
declare function reloadAndAskAgain(id: string): Promise<void>;
declare function recreate(id: string, value: string): Promise<void>;
declare function retryLater(seconds: number | undefined): Promise<void>;
declare const log: { warn(fields: object, message: string): void };
