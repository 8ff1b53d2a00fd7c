import { Controller, Get, Header } from '@nestjs/common';
import { outcomeWordingScript } from '@pinflow/contracts';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The page may run only its own script and style, and talk only to this origin: an injected
 * script or style would not run, nothing can frame it, and no form posts elsewhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** apps/audit/console from the source tree or from dist/ alike: found from the repository root (the image keeps nx.json there). */
function consoleDir(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${__dirname}: the console's files are not where the audit service runs`);
    dir = parent;
  }
  return path.join(dir, 'apps', 'audit', 'console');
}

const read = (file: string) => readFileSync(path.join(consoleDir(), file), 'utf8');

/** The operator console: static files only; everything it shows comes from the operator API with the operator's own token. */
@Controller('console')
export class ConsoleController {
  private readonly files = { page: read('index.html'), script: read('console.js'), style: read('console.css') };
  private readonly outcomeWording = outcomeWordingScript();

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CONSOLE_CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Referrer-Policy', 'no-referrer')
  page(): string {
    return this.files.page;
  }

  @Get('console.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  script(): string {
    return this.files.script;
  }

  /** describeOutcome, the wording the ops CLI prints too, as a script for the page (see outcomeWordingScript). */
  @Get('outcomes.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  outcomes(): string {
    return this.outcomeWording;
  }

  @Get('console.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  style(): string {
    return this.files.style;
  }
}
