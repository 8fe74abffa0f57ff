import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './column-transformers.js';

/** A pending authorization `state`, stored hashed so a database leak cannot replay it. */
@Entity({ name: 'pipedrive_oauth_states' })
export class PipedriveOAuthStateEntity {
  /** sha256(state), hex. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  /** Epoch milliseconds; indexed so expired rows can be swept cheaply. */
  @Index('IDX_pipedrive_oauth_states_expires_at')
  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt!: number;
}
