import { BadRequestException, NotFoundException } from '@nestjs/common';
import { z } from 'zod';
import { PipedriveApiError, type PipedriveConnectionClient, type PipedriveDeal, type PipedriveNote } from '../../index.js';

/** What the deal panel and the JSON panel show of one deal. */
export interface DealSummary {
  deal: PipedriveDeal;
  notes: PipedriveNote[];
}

const noteSchema = z.strictObject({ content: z.string().trim().min(1).max(10_000) });

const invalid = (message: string) => new BadRequestException({ statusCode: 400, error: 'invalid_request', message });

/** A deal id from a path or `selectedIds`: a positive integer, or 400. */
export function parseDealId(value: string | undefined): number {
  if (value === undefined || !/^[1-9]\d{0,14}$/.test(value)) throw invalid('The deal id must be a positive integer.');
  return Number(value);
}

/** `{ "content": "..." }`, or 400 naming what is wrong. */
export function parseNote(body: unknown): { content: string } {
  const parsed = noteSchema.safeParse(body);
  if (!parsed.success) throw invalid('The body must be { "content": "<1 to 10000 characters>" }.');
  return parsed.data;
}

/**
 * Reads and writes a deal's notes as one connection. A deal Pipedrive does not show this connection
 * (another company's, or deleted) is a 404 here, never the 502 of a failed upstream call.
 */
export class DealNotes {
  constructor(private readonly client: PipedriveConnectionClient) {}

  async summary(dealId: number): Promise<DealSummary> {
    const deal = await this.deal(dealId);
    return { deal, notes: await this.notesOf(dealId) };
  }

  /** The deal's notes, newest first. */
  async notes(dealId: number): Promise<PipedriveNote[]> {
    await this.deal(dealId);
    return this.notesOf(dealId);
  }

  async add(dealId: number, content: string): Promise<PipedriveNote> {
    await this.deal(dealId);
    return this.client.notes.create({ content, deal_id: dealId });
  }

  private async notesOf(dealId: number): Promise<PipedriveNote[]> {
    const notes = await this.client.notes.all({ deal_id: dealId }, { pageSize: 500 });
    return notes.sort((a, b) => b.id - a.id);
  }

  private async deal(dealId: number): Promise<PipedriveDeal> {
    try {
      return await this.client.deals.get(dealId);
    } catch (error) {
      if (error instanceof PipedriveApiError && error.details.status === 404) {
        throw new NotFoundException({
          statusCode: 404,
          error: 'deal_not_found',
          message: `Deal ${dealId} was not found in this Pipedrive company.`,
        });
      }
      throw error;
    }
  }
}
